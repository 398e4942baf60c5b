"""The report: a surface over the analyses.

`chipgap.analyses.report_model.build_model` computes everything the report shows, once, with
the claims ledger (`chipgap.analyses.claims`); `chipgap.report.build.build_report` renders each
section from it; `chipgap.report.render` writes one self-contained HTML file or Markdown with
PNG charts and CSV tables. Charts are drawn by `chipgap.plots`, which the CLI shares.
"""
