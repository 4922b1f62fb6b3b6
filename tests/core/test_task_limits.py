"""Every task of the beat schedule can be queued: Celery refuses (ValueError in apply_async) a task
whose soft time limit, its own or the global default, is above its hard limit."""

import importlib

import pytest

from unionportal.celery import app


@pytest.mark.parametrize("entry", sorted(app.conf.beat_schedule))
def test_each_scheduled_tasks_soft_time_limit_is_within_its_hard_limit(entry):
    name = app.conf.beat_schedule[entry]["task"]
    importlib.import_module(name.rsplit(".", 1)[0])  # registers the task, as the worker's autodiscovery does
    task = app.tasks[name]
    soft, hard = task.soft_time_limit, task.time_limit
    assert hard, f"{task.name} has no hard time limit"
    assert soft and soft <= hard, f"{task.name}: soft {soft} > hard {hard}"
