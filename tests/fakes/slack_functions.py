"""Workflow Builder's custom steps, as the fake Slack plays them: a workflow reaches the app's
step, Slack sends `function_executed` with a token for that run, and the app ends the run once
with `functions.completeSuccess` or `functions.completeError`.

Slack's rules kept here: the run's token is good only while the run is running; a run ends once
(`execution_not_in_running_state` after); an unknown id is `function_execution_not_found`;
outputs are checked against the step's declared `output_parameters` (a missing required output,
an undeclared one or a value of the wrong type is `parameter_validation_failed`).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass
class FunctionRun:
    """One run of a step: what the workflow gave it and how the app ended it."""

    id: str
    token: str
    callback_id: str
    inputs: JSON
    state: str = "running"
    """`running`, then `completed` or `failed`."""
    outputs: JSON | None = None
    error: str | None = None


@dataclass
class FunctionRuns:
    """The runs Slack started; called under the fake's lock."""

    app_id: str
    runs: dict[str, FunctionRun] = field(default_factory=dict)
    declared: dict[str, JSON] = field(default_factory=dict)

    def start(self, callback_id: str, definition: JSON, inputs: JSON) -> JSON:
        """A new run of the step declared as `definition` (a manifest `functions:` entry); the
        `function_executed` event Slack sends for it."""
        run_id, token = f"Fx{uuid.uuid4().hex[:10].upper()}", f"xwfp-{uuid.uuid4().hex}"
        run = FunctionRun(run_id, token, callback_id, inputs)
        self.runs[run.id] = run
        self.declared[callback_id] = definition
        return {
            "type": "function_executed",
            "function": {
                "id": f"Fn{uuid.uuid4().hex[:10].upper()}",
                "callback_id": callback_id,
                "title": definition.get("title", ""),
                "description": definition.get("description", ""),
                "type": "app",
                "input_parameters": _parameters(definition.get("input_parameters")),
                "output_parameters": _parameters(definition.get("output_parameters")),
                "app_id": self.app_id,
                "date_created": 1694727597,
                "date_updated": 1698947481,
                "date_deleted": 0,
            },
            "inputs": inputs,
            "function_execution_id": run.id,
            "workflow_execution_id": f"Wx{uuid.uuid4().hex[:10].upper()}",
            "event_ts": f"{time.time():.6f}",
            "bot_access_token": run.token,
        }

    def accepts(self, token: str) -> bool:
        """Whether `token` is a running step's token (good for any call during the run)."""
        return any(run.token == token and run.state == "running" for run in self.runs.values())

    def complete_success(self, args: JSON) -> JSON:
        run, error = self._running(args)
        if run is None:
            return _err(error)
        outputs = args.get("outputs")
        problem = _outputs_problem(outputs, self.declared[run.callback_id].get("output_parameters") or {})
        if problem:
            return _err("parameter_validation_failed", errors=[problem])
        run.state, run.outputs = "completed", outputs
        return {"ok": True}

    def complete_error(self, args: JSON) -> JSON:
        run, error = self._running(args)
        if run is None:
            return _err(error)
        message = args.get("error")
        if not isinstance(message, str) or not message:
            return _err("invalid_arguments")
        run.state, run.error = "failed", message
        return {"ok": True}

    def _running(self, args: JSON) -> tuple[FunctionRun | None, str]:
        run = self.runs.get(str(args.get("function_execution_id")))
        if run is None:
            return None, "function_execution_not_found"
        if run.state != "running":
            return None, "execution_not_in_running_state"
        return run, ""


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "timestamp": (int,),
}
"""Slack's parameter types the step uses, as JSON values (a timestamp is Unix seconds)."""


def _parameters(declared: JSON | None) -> list[JSON]:
    """A manifest's `{properties, required}` as the list an event carries."""
    declared = declared or {}
    required = set(declared.get("required") or [])
    return [
        {**spec, "name": name, "is_required": name in required}
        for name, spec in (declared.get("properties") or {}).items()
    ]


def _outputs_problem(outputs: Any, declared: JSON) -> str | None:
    if not isinstance(outputs, dict):
        return "outputs must be an object"
    properties = declared.get("properties") or {}
    for name in declared.get("required") or []:
        if name not in outputs:
            return f"missing required output {name}"
    for name, value in outputs.items():
        if name not in properties:
            return f"undeclared output {name}"
        wanted = _TYPES.get(properties[name].get("type", ""), (object,))
        if isinstance(value, bool) or not isinstance(value, wanted):
            return f"output {name} must be a {properties[name].get('type')}"
    return None


def _err(error: str, **fields: Any) -> JSON:
    return {"ok": False, "error": error, **fields}
