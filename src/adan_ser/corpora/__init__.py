"""Corpus readers (one module per corpus), the generated demo corpus, and ``build.build_manifest``
which turns any of them into one manifest."""
