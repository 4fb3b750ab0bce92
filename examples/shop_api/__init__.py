"""A small shop service on odm.fastapi: products with variants, orders with lines.

Run it (with ``pip install 'odm-elasticsearch[fastapi]' uvicorn``), from ``examples/``::

    ODM_ES_URL=http://127.0.0.1:9200 SHOP_CURSOR_SECRET=... uvicorn shop_api.app:app

Settings come from the environment (:class:`odm.fastapi.OdmSettings`): ``ODM_ES_URL``,
``ODM_ES_USERNAME``/``ODM_ES_PASSWORD`` or ``ODM_ES_API_KEY``, ``ODM_INDEX_PREFIX``
(``staging-`` makes the indices ``staging-shop-products`` and ``staging-shop-orders``),
and ``SHOP_CURSOR_SECRET``, the key that signs pagination cursors (the same in every
worker; a random one per process when unset). ``tests/integration/test_shop_api.py``
runs every endpoint against a real node.
"""
