"""The class wall's rounds kept behind a lock: what students and the teacher see, the last
rounds only, and many threads answering at once."""

from __future__ import annotations

import threading

import pytest

from studio.classroom.wall import Wall
from studio.errors import InputError
from studio.tasks import wall as task


def test_students_see_the_open_round_but_no_ones_answers():
    wall = Wall()
    assert wall.student_view() == {"open": False, "message": task.NO_ROUND}
    opened = wall.open("next_word", "The cat sat on the")
    wall.answer(None, "user:ada", "mat", "ada")
    view = wall.student_view()
    assert view["open"] and view["id"] == opened.id and "answers" not in view
    shown = wall.teacher_view()
    assert shown["bars"] == [{"text": "mat", "count": 1, "share": 1.0}]
    assert shown["names"] == ["ada"]
    wall.close()
    assert wall.student_view()["open"] is False
    assert wall.teacher_view()["round"]["open"] is False  # the wall still shows the last round


def test_opening_a_round_closes_the_last_and_only_the_last_rounds_are_kept():
    wall = Wall()
    first = wall.open("next_word", "one")
    wall.open("paint", "two")
    with pytest.raises(InputError, match="closed"):
        wall.answer(first.id, "a", "x")
    for n in range(task.MAX_ROUNDS + 3):
        wall.open("next_word", f"round {n}")
    assert len(wall._rounds) == task.MAX_ROUNDS
    with pytest.raises(InputError, match="No round is open"):
        wall.answer(first.id, "a", "x")  # forgotten


def test_many_threads_answering_at_once_are_all_counted():
    wall = Wall()
    wall.open("next_word", "The cat sat on the")

    def answer(n: int) -> None:
        for i in range(20):
            wall.answer(None, f"p{n}", "mat" if i % 2 else "Mat")

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (bar,) = wall.teacher_view()["bars"]
    assert bar["count"] == 50 and bar["text"].casefold() == "mat"
    assert wall.teacher_view()["answers"] == 50
