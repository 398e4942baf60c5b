"""The report and its charts: a surface over the analyses.

`chipgap.report.build.build_report` computes every section through the Python API;
`chipgap.report.render` writes it as one self-contained HTML file or as Markdown with PNG
charts; `chipgap.report.claims` turns the sections' numbers into the claims ledger. The chart
modules (export, Pareto, economics, Monte-Carlo ranges) are used by the CLI as well.
"""
