"""Built-in plugins (installed as ``ogcrm_plugins``): readers, cleaners and scorers.

They use exactly the contract third-party plugins use; nothing here imports ogcrm's
internals beyond the public plugin API.
"""
