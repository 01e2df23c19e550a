"""Pasted and attached logs: what llama.cpp, Ollama, LM Studio, vLLM, nvidia-smi and rocm-smi print, read into
the facts of a setup (bot.logs.parse) and told apart from a question that merely quotes an error line."""
from bot.logs.parse import MAX_LOG_CHARS, parse_log
from bot.logs.schema import LogFacts, LogGpu

# lines of a tool's own output that make a message a pasted log rather than a question quoting one line
MIN_LOG_LINES = 2


def is_pasted_log(text: str) -> bool:
    """Two or more lines of a tool's output (llama.cpp, Ollama, LM Studio, vLLM, nvidia-smi, rocm-smi). A single
    error line, or a Python traceback alone, is not a log here: the knowledge base answers those as before."""
    return text.count("\n") >= 1 and parse_log(text).log_lines >= MIN_LOG_LINES


__all__ = ["MAX_LOG_CHARS", "MIN_LOG_LINES", "LogFacts", "LogGpu", "is_pasted_log", "parse_log"]
