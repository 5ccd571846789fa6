"""A local web page to explore transforms on your own image (``invariance explore``).

Needs the optional extra ``pip install 'invariance[explore]'`` (FastAPI and uvicorn). Import
:func:`create_app` from :mod:`invariance.explore.app` and :func:`serve` from
:mod:`invariance.explore.server`.
"""
