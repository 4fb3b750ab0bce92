"""The migration engine behind :mod:`odm.migrate` (the public face: plan, apply, resume, rollback, prune).

``_state`` keeps a migration's state document and lease in Elasticsearch; ``_run`` one call's
frame (options, lock, progress, result); ``_copy`` and ``_server_copy`` the copy through the
model or by ``_reindex``; ``_steps`` apply's and resume's steps; ``_rollback`` the way back.
See docs/migrations.md and docs/architecture.md.
"""
