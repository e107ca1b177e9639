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


def constructor(cls: type[M]) -> Callable[..., M]:
    """``make(**values)``: an unvalidated ``cls`` with defaults for the fields not given.

    Equivalent to ``cls.model_construct(**values)`` for models without aliases
    in use, extra fields or post-init hooks, which is all of these entities.
    """
    fields = cls.__pydantic_fields__
    factories = {n: f.default_factory for n, f in fields.items() if f.default_factory is not None}
    defaults = {n: f.default for n, f in fields.items() if f.default_factory is None and not f.is_required()}
    if cls.__pydantic_post_init__ or cls.model_config.get("extra") == "allow":
        return cls.model_construct
    new = object.__new__
    set_attribute = object.__setattr__

    def make(**values: Any) -> M:
        given = set(values)
        for name, factory in factories.items():
            if name not in values:
                values[name] = factory()  # type: ignore[call-arg]
        for name, default in defaults.items():
            if name not in values:
                values[name] = default
        model = new(cls)
        set_attribute(model, "__dict__", values)
        set_attribute(model, "__pydantic_fields_set__", given)
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
