"""The document internals, the pure floor: nothing here sends a request.

Names and ids (``names``), the "not given" sentinel, values as Elasticsearch stores them
(``stored_values``), each class's options (``document_options``: the only reader of
``__odm__``), raw hits to models (``hits``, ``hit_classes``, ``raw_json``), which reads
ask for vectors (``vectors``), the one write path (``writes``), and live-versus-wanted
mapping and settings diffs. Everything above imports from here; nothing here imports
from above. See docs/architecture.md.
"""
