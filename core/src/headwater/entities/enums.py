"""Fixed vocabularies shared with MLflow's wire format."""

from __future__ import annotations

from enum import Enum


class RunStatus(str, Enum):
    """Run status; the wire carries the name, the numbers match MLflow's proto."""

    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def number(self) -> int:
        return _RUN_STATUS_NUMBERS[self]

    @classmethod
    def parse(cls, value: "RunStatus | str | int") -> "RunStatus":
        """Accept a member, a name in any case, or the proto number."""
        if isinstance(value, RunStatus):
            return value
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            for status, number in _RUN_STATUS_NUMBERS.items():
                if number == int(value):
                    return status
        elif isinstance(value, str) and value.upper() in cls.__members__:
            return cls[value.upper()]
        from headwater.exceptions import HeadwaterError

        raise HeadwaterError.invalid(
            f"Invalid run status {value!r}. Must be one of {', '.join(cls.__members__)}."
        )

    def is_terminated(self) -> bool:
        return self in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)


_RUN_STATUS_NUMBERS = {
    RunStatus.RUNNING: 1,
    RunStatus.SCHEDULED: 2,
    RunStatus.FINISHED: 3,
    RunStatus.FAILED: 4,
    RunStatus.KILLED: 5,
}


class ViewType(str, Enum):
    """Which lifecycle stages a search returns."""

    ACTIVE_ONLY = "ACTIVE_ONLY"
    DELETED_ONLY = "DELETED_ONLY"
    ALL = "ALL"

    @classmethod
    def parse(cls, value: "ViewType | str | int | None") -> "ViewType":
        if value is None:
            return cls.ACTIVE_ONLY
        if isinstance(value, ViewType):
            return value
        numbers = {1: cls.ACTIVE_ONLY, 2: cls.DELETED_ONLY, 3: cls.ALL}
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            if int(value) in numbers:
                return numbers[int(value)]
        elif isinstance(value, str):
            if value.upper() in cls.__members__:
                return cls[value.upper()]
        from headwater.exceptions import HeadwaterError

        raise HeadwaterError.invalid(
            f"Invalid view type {value!r}. Must be one of {', '.join(cls.__members__)}."
        )

    @property
    def stages(self) -> tuple[str, ...]:
        """The lifecycle stages this view includes."""
        return {
            ViewType.ACTIVE_ONLY: (LifecycleStage.ACTIVE,),
            ViewType.DELETED_ONLY: (LifecycleStage.DELETED,),
            ViewType.ALL: (LifecycleStage.ACTIVE, LifecycleStage.DELETED),
        }[self]


class LifecycleStage:
    """Lifecycle stage strings as stored and sent on the wire."""

    ACTIVE = "active"
    DELETED = "deleted"


class SourceType(str, Enum):
    """Where a run came from; travels only as the ``mlflow.source.type`` tag."""

    NOTEBOOK = "NOTEBOOK"
    JOB = "JOB"
    PROJECT = "PROJECT"
    LOCAL = "LOCAL"
    UNKNOWN = "UNKNOWN"
