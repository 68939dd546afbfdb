"""How good is a synthetic set: quality, mode-collapse and speaker measures, t-SNE pictures. Each takes
a fold's real and synthetic rows and returns numbers or a picture; none fits an augmenter."""
