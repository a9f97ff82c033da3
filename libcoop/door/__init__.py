"""The coordinators' door (docs/contract.md section 4): a web application where librarians sign
in, upload a file and read its report at once, follow their country's files and names, and
curators accept the names proposed.

Built on FastAPI (after its documentation and its full-stack template): authorization is a typed
dependency each route declares (the signed-in user, the countries she may see, the CSRF token),
Starlette underneath gives the signed session cookies and static files, Jinja2 the pages, uvicorn
serves it; all maintained and already in the Python web ecosystem the project uses (Airflow 3's
API server is FastAPI too). The door calls libcoop's own functions (the same check as ``libcoop
check``, the same paths from ``libcoop.settings``), never copies of a rule.

This package's ``__init__`` imports nothing: the nightly run reads the accepted aliases
(``libcoop.aliases``) and sends the mails (``libcoop.door.mail``) without the web stack.
"""
