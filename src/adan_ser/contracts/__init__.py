"""Contracts between the stages: folds, feature alignment, the synthetic-set store, the results schema and
the manifest. Imported by every stage; imports none of them."""
