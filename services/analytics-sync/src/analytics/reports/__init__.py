"""A workspace's analytics report for a period, to send: the numbers (``content``), as a PDF
(``pdf``) or a CSV (``csv``)."""
