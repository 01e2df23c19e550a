"""The knowledge base: glossary and error entries as Markdown with YAML front matter."""
