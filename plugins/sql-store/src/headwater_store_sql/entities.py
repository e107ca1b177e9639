"""Fast construction of Headwater entities from our own rows.

``Model.model_construct`` skips validation but still walks every field's
aliases and computes missing defaults (for ``default_factory`` fields pydantic
inspects the factory's signature on each call), which dominated building a
page of 1000 runs. These constructors do what ``model_construct`` does with
defaults precomputed per class. They follow the entities as they grow: new
fields get their defaults without changes here.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from pydantic import BaseModel

from headwater.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunInputs,
)

M = TypeVar("M", bound=BaseModel)


_REQUIRED = object()
_FACTORY = object()


def constructor(cls: type[M]) -> Callable[..., M]:
    """``make(**values)``: an unvalidated ``cls`` with defaults for the fields not given.

    Equivalent to ``cls.model_construct(**values)`` for models without aliases
    in use, extra fields or post-init hooks, which is all of these entities.
    """
    if cls.__pydantic_post_init__ or cls.model_config.get("extra") == "allow":
        return cls.model_construct
    # Every field in declaration order; merging the given values into this
    # template keeps that order and fills plain defaults in one C-level step.
    template: dict[str, Any] = {}
    factories: list[tuple[str, Callable[[], Any]]] = []
    for name, field in cls.__pydantic_fields__.items():
        if field.default_factory is not None:
            template[name] = _FACTORY
            factories.append((name, field.default_factory))  # type: ignore[arg-type]
        else:
            template[name] = _REQUIRED if field.is_required() else field.default
    new = object.__new__
    set_attribute = object.__setattr__

    def make(**values: Any) -> M:
        data = {**template, **values}
        for name, factory in factories:
            if data[name] is _FACTORY:
                data[name] = factory()
        model = new(cls)
        set_attribute(model, "__dict__", data)
        set_attribute(model, "__pydantic_fields_set__", set(values))
        set_attribute(model, "__pydantic_extra__", None)
        set_attribute(model, "__pydantic_private__", None)
        return model

    return make


new_experiment = constructor(Experiment)
new_run = constructor(Run)
new_run_info = constructor(RunInfo)
new_run_data = constructor(RunData)
new_run_inputs = constructor(RunInputs)
new_metric = constructor(Metric)
new_dataset = constructor(Dataset)
new_dataset_input = constructor(DatasetInput)
new_input_tag = constructor(InputTag)
