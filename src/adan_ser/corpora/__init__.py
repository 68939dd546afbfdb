"""Corpus readers (one per corpus) and the generated demo corpus → one manifest."""
