"""Computed control properties given a wrong value: the task, the value and the message that must fail it."""

from __future__ import annotations

BAD = {
    "timeout": (
        "{id: a, type: log, message: m, timeout: '{{ inputs.v }}'}",
        "soon",
        "task 'a': after rendering, timeout: Value error, 'soon' is not a duration",
    ),
    "retry": (
        "{id: a, type: log, message: m, retry: {type: constant, interval: 1s, maxAttempts: '{{ inputs.v }}'}}",
        "three",
        "task 'a': after rendering, property 'retry.maxAttempts' expects a whole number but the expression gave text",
    ),
    "retry.interval": (
        "{id: a, type: log, message: m, retry: {type: constant, interval: '{{ inputs.v }}', maxAttempts: 2}}",
        "-",
        "task 'a': after rendering, retry.constant.interval: Value error, '-' is not a duration",
    ),
    "disabled": (
        "{id: a, type: log, message: m, disabled: '{{ inputs.v }}'}",
        "maybe",
        "task 'a': after rendering, property 'disabled' expects true or false but the expression gave text",
    ),
    "allowFailure": (
        "{id: a, type: log, message: m, allowFailure: '{{ inputs.v }}'}",
        "perhaps",
        "task 'a': after rendering, property 'allowFailure' expects true or false but the expression gave text",
    ),
    "logLevel": (
        "{id: a, type: log, message: m, logLevel: '{{ inputs.v }}'}",
        "LOUD",
        "task 'a': after rendering, logLevel: Input should be 'TRACE', 'DEBUG', 'INFO', 'WARN' or 'ERROR'",
    ),
    "parallel.concurrency": (
        "{id: a, type: parallel, concurrency: '{{ inputs.v }}', tasks: [{id: c, type: log, message: m}]}",
        "-1",
        "task 'a': after rendering, concurrency: Input should be greater than or equal to 0",
    ),
    "foreach.concurrencyLimit": (
        "{id: a, type: foreach, values: [1], concurrencyLimit: '{{ inputs.v }}', tasks: [{id: c, type: log, message: m}]}",
        "many",
        "task 'a': after rendering, property 'concurrencyLimit' expects a whole number but the expression gave text",
    ),
    "subflow.wait": (
        "{id: a, type: subflow, namespace: t, flowId: child, wait: '{{ inputs.v }}'}",
        "later",
        "task 'a': after rendering, property 'wait' expects true or false but the expression gave text",
    ),
    "subflow.transmitFailed": (
        "{id: a, type: subflow, namespace: t, flowId: child, transmitFailed: '{{ inputs.v }}'}",
        "sometimes",
        "task 'a': after rendering, property 'transmitFailed' expects true or false but the expression gave text",
    ),
    "pause.delay": (
        "{id: a, type: pause, delay: '{{ inputs.v }}'}",
        "tomorrow",
        "task 'a': after rendering, delay: Value error, 'tomorrow' is not a duration",
    ),
}
