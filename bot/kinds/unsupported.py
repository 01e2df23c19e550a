"""unsupported: a question the bot recognizes and does not answer. One or two honest sentences, and the closest
thing it can do, as a command to try. Never another kind's answer."""
from __future__ import annotations

from bot.answer.schema import Answer
from bot.core import Core
from bot.routing.schema import Route

WHAT_INSTEAD = {
    "finetune": "I can't compute fine-tuning memory yet. I can size running the model for inference: "
                "`/willitrun model gpu`.",
    "serve": "I can't compute serving capacity for many users yet. I can size one model with several sequences "
             "at once: `willitrun size MODEL --gpu GPU --parallel N`.",
    "image": "I don't size image or video models yet, only language models: `/willitrun model gpu`.",
    "cost": "I don't compute costs or compare with API prices yet. I can tell you which hardware runs a model: "
            "`/choosegpu model`.",
    "licensing": "I can't answer licensing or legal questions: read the licence on the model's page and ask "
                 "someone qualified. I can tell you whether it runs on your hardware: `/willitrun model gpu`.",
    "news": "I don't follow news or release dates. I can size any model in my catalog: `/willitrun model gpu`.",
    "prices": "I don't track current prices. I can compare what two cards run: `/compare gpu_a gpu_b`.",
    "opinion": "I don't rank models by taste. I can tell you which models run well on your hardware, ranked by "
               "published benchmarks: `/whatcanirun hardware`.",
}
DEFAULT = "That is outside what I compute or what our knowledge base covers. Try `/willitrun`, `/ask` or `/glossary`."


def answer(intent: Route, core: Core) -> Answer:
    return Answer(kind="unsupported", text=WHAT_INSTEAD.get(intent.asked or "", DEFAULT), asked=intent.asked,
                  confidence=intent.confidence)
