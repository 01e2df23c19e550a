"""Names as people type them -> catalog entries: models (Hugging Face repo ids, Ollama tags, file names, casual
spellings, fine-tunes sized as their base, sizes without a family), hardware (memory options, counts, product
names) and quantization labels (with any substitution stated). `Resolver` in bot/resolve/resolver.py is the one
entry point; the router, the engine, the CLI and the Discord options all go through it."""
