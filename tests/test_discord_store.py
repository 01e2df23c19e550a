"""What the bot remembers in SQLite: feedback, unanswered questions, channel modes, and what each answer was about;
all of it survives a restart (a new Store on the same file)."""
import time

from bot.answer.schema import Source
from bot.discord.store import AnswerRecord, Store, question_key
from bot.routing.schema import ModelRef, SizingFields
from bot.sizing.schema import SizingRequest


def reopened(store: Store) -> Store:
    store.close()
    return Store(store.path)


def test_votes_are_counted_one_per_person_and_answer(tmp_path):
    store = Store(tmp_path / "bot.sqlite3")
    store.record_feedback(1, user_id=10, vote="up")
    store.record_feedback(1, user_id=11, vote="up")
    counts = store.record_feedback(1, user_id=12, vote="down")
    assert (counts.up, counts.down) == (2, 1)


def test_voting_again_replaces_the_earlier_vote(tmp_path):
    store = Store(tmp_path / "bot.sqlite3")
    store.record_feedback(1, user_id=10, vote="up")
    counts = store.record_feedback(1, user_id=10, vote="down")
    assert (counts.up, counts.down) == (0, 1)


def test_feedback_survives_a_restart(tmp_path):
    store = Store(tmp_path / "bot.sqlite3")
    store.record_feedback(7, user_id=10, vote="down", question="what is gguf", kind="knowledge")
    assert reopened(store).feedback_counts(7).down == 1


def test_the_same_question_asked_in_other_words_is_counted_once(tmp_path):
    store = Store(tmp_path / "bot.sqlite3")
    store.record_unanswered("How do I fine-tune with LoRA?")
    assert store.record_unanswered("how do i  fine-tune with lora") == 2
    assert question_key("How do I fine-tune with LoRA?") == question_key("how do i fine-tune with lora")


def test_most_asked_unanswered_questions_come_first(tmp_path):
    now = int(time.time())         # recent: a reopened store deletes what is past the retention period
    clock = iter(range(now, now + 100)).__next__
    store = Store(tmp_path / "bot.sqlite3", clock=clock)
    for question, times in (("what is rag", 1), ("how to train lora", 3), ("best tts model", 2)):
        for _ in range(times):
            store.record_unanswered(question)
    listed = reopened(store).most_unanswered(limit=2)
    assert [(q.question, q.count) for q in listed] == [("how to train lora", 3), ("best tts model", 2)]


def test_a_channel_without_a_mode_answers_mentions(tmp_path):
    assert Store(tmp_path / "bot.sqlite3").channel_mode(123) == "mention"


def test_channel_modes_persist(tmp_path):
    store = Store(tmp_path / "bot.sqlite3")
    store.set_channel_mode(123, "listen")
    store.set_channel_mode(456, "off")
    store.set_channel_mode(456, "mention")
    again = reopened(store)
    assert again.channel_mode(123) == "listen"
    assert again.channel_modes() == {123: "listen", 456: "mention"}


def test_an_answer_is_remembered_with_its_sizing_request_and_sources(tmp_path):
    store = Store(tmp_path / "bot.sqlite3")
    record = AnswerRecord(question="llama 8b on a 3060?", kind="sizing",
                          fields=SizingFields(model=ModelRef(id="llama-3.1-8b", params_b=8.0)),
                          request=SizingRequest(model="llama-3.1-8b", gpu="rtx-3060"),
                          sources=[Source(id="kv-cache", title="KV cache", kind="glossary")])
    store.remember_answer(99, record)
    again = reopened(store)
    assert again.answer_record(99) == record
    assert again.answer_record(100) is None


def test_old_answer_records_are_dropped_at_startup(tmp_path):
    path = tmp_path / "bot.sqlite3"
    old = Store(path, clock=lambda: 0.0)
    old.remember_answer(1, AnswerRecord(question="q", kind="knowledge"))
    old.close()
    assert Store(path, clock=lambda: 31 * 86400.0).answer_record(1) is None


def test_willitrun_report_lists_the_most_asked_unanswered_questions(tmp_path):
    import os
    import subprocess
    import sys

    store = Store(tmp_path / "willitrun.sqlite3")
    for question, times in (("what is rag", 1), ("how to train lora", 3)):
        for _ in range(times):
            store.record_unanswered(question)
    store.close()
    run = subprocess.run([sys.executable, "-m", "bot.cli", "report", "--limit", "5"], capture_output=True, text=True,
                         env={**os.environ, "DATA_DIR": str(tmp_path)})
    assert run.returncode == 0
    lines = run.stdout.splitlines()
    assert "3x  how to train lora" in lines[0] and "1x  what is rag" in lines[1]


def test_the_database_file_is_readable_by_its_owner_only(tmp_path):
    import stat

    store = Store(tmp_path / "bot.sqlite3")
    store.record_unanswered("what is rag")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_a_corrupt_database_is_moved_aside_and_a_new_one_started(tmp_path, caplog):
    path = tmp_path / "willitrun.sqlite3"
    path.write_bytes(b"not a database at all " * 500)
    store = Store(path)
    assert store.record_unanswered("what is rag") == 1
    moved = [p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name]
    assert len(moved) == 1 and moved[0].startswith("willitrun.sqlite3.corrupt-")
    assert (tmp_path / moved[0]).read_bytes().startswith(b"not a database")
    assert any("corrupt" in r.getMessage() and moved[0] in r.getMessage() for r in caplog.records)


def test_records_past_the_retention_period_are_pruned_from_every_table(tmp_path):
    now = [1_000_000_000.0]
    store = Store(tmp_path / "bot.sqlite3", clock=lambda: now[0])
    store.record_unanswered("old question")
    store.record_feedback(1, user_id=10, vote="up")
    store.remember_answer(1, AnswerRecord(question="q", kind="knowledge"))
    now[0] += 31 * 86400
    store.record_unanswered("new question")
    removed = store.prune(30)
    assert removed == {"answers": 1, "feedback": 1, "unanswered": 1}
    assert [q.question for q in store.most_unanswered()] == ["new question"]
    assert store.feedback_counts(1).up == 0 and store.answer_record(1) is None


def test_health_passes_a_sound_database(tmp_path):
    from bot.ops.health import check_database
    from bot.settings import Settings

    Store(tmp_path / "willitrun.sqlite3").close()
    check = check_database(Settings(_env_file=None, data_dir=tmp_path))
    assert check.ok and "integrity" in check.detail


def test_health_fails_a_damaged_database_naming_the_file(tmp_path):
    from bot.ops.health import check_database
    from bot.settings import Settings

    (tmp_path / "willitrun.sqlite3").write_bytes(b"not a database at all " * 500)
    check = check_database(Settings(_env_file=None, data_dir=tmp_path))
    assert not check.ok and "willitrun.sqlite3 is damaged" in check.detail


def test_health_passes_before_the_bot_has_made_its_database(tmp_path):
    from bot.ops.health import check_database
    from bot.settings import Settings

    assert check_database(Settings(_env_file=None, data_dir=tmp_path)).ok


def test_willitrun_health_checks_the_database(tmp_path):
    from bot.ops.health import run_checks
    from bot.settings import Settings

    assert "database" in [c.name for c in run_checks(Settings(_env_file=None, data_dir=tmp_path))]
