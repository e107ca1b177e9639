"""The model registry's core: input rules, model-version sources, model URIs and the evented service.

Stores live in plugins (``headwater_registry_stores``); the contract they
implement is :class:`headwater.store.RegistryStore`.
"""
