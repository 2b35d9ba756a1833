"""Reporting: the audit report's content built from domain objects, then drawn as a verifiable PDF.

``audit_report.build_audit_report`` -> ``content.Report`` -> ``pdf.render_pdf``; ``verify.read_report``
reads an exported PDF back. Only ``pdf`` and ``verify`` know reportlab and pypdf (see docs/architecture.md).
"""
