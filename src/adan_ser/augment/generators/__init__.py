"""The augmenters that learn from feature vectors: the baselines, the speaker model, ADAN and its
variants, and the imblearn samplers around them. Each is an estimator; none reads params or files."""
