"""The flow: what a YAML document declares, as a validated model."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, PrivateAttr

from engine.core.durations import Duration
from engine.core.retry import Retry
from engine.flows.inputs import Input
from engine.flows.sla import Sla
from engine.flows.spec import TASK_ID_PATTERN, Computed, FlowId, NamespaceName, Spec, WorkerGroup
from engine.flows.task_defaults import TaskDefault

if TYPE_CHECKING:
    from engine.flows.triggers import Trigger as AnyTrigger
    from engine.tasks.base import Task as AnyTask


class ConcurrencyBehavior(StrEnum):
    QUEUE = "queue"
    CANCEL = "cancel"
    FAIL = "fail"


class Concurrency(Spec):
    limit: Annotated[int, Field(ge=1)]
    """Most executions of this flow running at once."""
    behavior: ConcurrencyBehavior = ConcurrencyBehavior.QUEUE
    """What happens to an execution over the limit: wait in a queue, be cancelled, or fail."""


class Output(Spec):
    id: Annotated[str, Field(pattern=TASK_ID_PATTERN, max_length=100)]
    """Name of the output in the execution's outputs."""
    type: Literal[
        "STRING",
        "INT",
        "FLOAT",
        "BOOLEAN",
        "DATE",
        "DATETIME",
        "DURATION",
        "JSON",
        "FILE",
    ] = "STRING"
    """The type the value is converted to."""
    value: Any
    """The value, usually an expression such as {{ outputs.task.value }}."""
    description: str | None = None
    """What this output is, for people reading the flow."""


class Flow(Spec):
    id: FlowId
    """Name of the flow, unique in its namespace."""
    namespace: NamespaceName
    """Folder-like group the flow belongs to, e.g. acme.sales."""
    description: str | None = None
    """What the flow does (Markdown)."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Key-value tags to find and filter flows and their executions."""
    inputs: list[Input] = Field(default_factory=list)
    """Values asked for when the flow starts; tasks read them as inputs.<id>."""
    variables: dict[str, Any] = Field(default_factory=dict)
    """Fixed values tasks read as vars.<name>."""
    tasks: Annotated[list[AnyTask], Field(min_length=1)]
    """The tasks of the flow, run in order unless they name dependsOn."""
    errors: list[AnyTask] = Field(default_factory=list)
    """Tasks run when the flow fails, e.g. to send an alert."""
    finally_: Annotated[list[AnyTask], Field(alias="finally")] = Field(default_factory=list)
    """Tasks run at the end, whether the flow failed or not."""
    outputs: list[Output] = Field(default_factory=list)
    """Values the flow gives back when it ends."""
    triggers: list[AnyTrigger] = Field(default_factory=list)
    """What starts the flow on its own: a schedule, a webhook, another flow ending."""
    task_defaults: list[TaskDefault] = Field(default_factory=list)
    """Property values set once for every task of a type (postgresql.query) or a family (postgresql.), e.g. the
    connection; a task's own value wins unless the default is forced."""
    retry: Retry | None = None
    """Default retry for every task that does not set its own."""
    timeout: Computed[Duration] | None = None
    """Fail the execution when it runs longer than this."""
    concurrency: Concurrency | None = None
    """Limit how many executions of this flow run at once."""
    sla: list[Sla] = Field(default_factory=list)
    """Service level agreements: a longest duration (maxDuration) or an assertion checked at the end; a breach is
    recorded on the execution and fails it, cancels it or only records it (behavior)."""
    worker_group: WorkerGroup | None = None
    """The worker group its tasks run on unless a task names its own (`lanner worker --group NAME`); unset: the
    namespace's, else any worker without a group."""
    disabled: bool = False
    """A disabled flow cannot be started, and its triggers do not fire."""
    retention: Duration | None = None
    """How long ended executions are kept (e.g. 30d): older ones are deleted with their logs and files.
    Unset: LANNER_RETENTION, else forever."""

    # Whether the flow's expressions can read a context name, by name: found once per parsed flow, which never
    # changes (engine/core/expression_context.py flow_reads).
    _reads: dict[str, bool] = PrivateAttr(default_factory=dict)
    # Its tasks by id, at any depth: built on the first lookup (engine/flows/tree.py find_task).
    _tasks_by_id: dict[str, Any] | None = PrivateAttr(default=None)
    # The ordering rule of each of its task lists, by (id of the list, parallel): engine/core/evaluator.py plan.
    _orders: dict[tuple[int, bool], Any] = PrivateAttr(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.id)

    def input(self, input_id: str) -> Any:
        return next((i for i in self.inputs if i.id == input_id), None)
