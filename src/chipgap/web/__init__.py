"""The workbench (``chipgap serve``): pages and a JSON API over the Python API, served locally.

`chipgap.web.app.create_app` builds the application; `chipgap.web.state.Settings` holds its
limits. Heavy modules (the models, the report) load on first use, so the server starts at once.
"""
