"""unsupported: a question the bot recognizes and does not answer. One or two honest sentences, and the closest
thing it can do, as a command to try. Never another kind's answer."""
from __future__ import annotations

from bot.answer.schema import Answer
from bot.core import Core
from bot.routing.schema import Route

# by what was asked; a kind routed here while it has no module (bot.routing.intents NOT_BUILT) gets DEFAULT
WHAT_INSTEAD = {
    "licensing": "I can't answer licensing or legal questions: read the licence on the model's page and ask "
                 "someone qualified. I can tell you whether it runs on your hardware: `/willitrun model gpu`.",
    "news": "I don't follow news or release dates. I can size any model in my catalog: `/willitrun model gpu`.",
    "prices": "I don't track current prices. I can rank setups for a budget with the dated prices I have: "
              "`/cost model budget`.",
    "opinion": "I don't rank models by taste. I can tell you which models run well on your hardware, ranked by "
               "published benchmarks: `/whatcanirun hardware`.",
}
DEFAULT = "That is outside what I compute or what our knowledge base covers. Try `/willitrun`, `/ask` or `/glossary`."


def answer(intent: Route, core: Core) -> Answer:
    return Answer(kind="unsupported", text=WHAT_INSTEAD.get(intent.asked or "", DEFAULT), asked=intent.asked,
                  confidence=intent.confidence)
