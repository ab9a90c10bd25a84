"""The dashboard's page template and its style sheet (inline, so that the page needs no other file)."""

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d2733;
       background: #f5f7fa; }
#header { background: #1d2733; color: #fff; padding: 10px 20px; display: flex; flex-wrap: wrap;
          align-items: center; gap: 18px; }
#header h1 { font-size: 20px; margin: 0; }
#study-summary { font-size: 14px; opacity: 0.85; }
#nav a { color: #cfe0f5; margin-right: 14px; text-decoration: none; font-weight: 500; }
#nav a:hover { text-decoration: underline; }
#nav a.current { color: #fff; border-bottom: 2px solid #ff7f0e; }
#trial-picker { min-width: 280px; color: #1d2733; margin-left: auto; }
#page { padding: 16px 20px; }
.card { background: #fff; border-radius: 6px; box-shadow: 0 1px 3px rgba(0,0,0,.12); padding: 12px;
        margin-bottom: 16px; }
table.data { border-collapse: collapse; font-size: 13px; width: 100%; }
table.data th, table.data td { border-bottom: 1px solid #e3e8ee; padding: 4px 8px; text-align: left;
                               vertical-align: top; }
table.data th { background: #eef2f6; position: sticky; top: 0; }
table.data.compact { width: auto; min-width: 420px; }
.scroll { overflow: auto; max-height: 480px; }
.message { padding: 14px; background: #fff8e1; border-left: 4px solid #f0ad4e; }
.error { padding: 14px; background: #fdecea; border-left: 4px solid #d62728; }
pre { background: #f0f3f7; padding: 10px; overflow: auto; font-size: 13px; }
details summary { cursor: pointer; font-weight: 600; padding: 4px 0; }
.hint { font-size: 13px; color: #555; margin: 0 0 8px; }
iframe#netron-frame { width: 100%; height: 640px; border: 1px solid #d0d7de; border-radius: 4px;
                      background: #fff; }
"""

INDEX = """<!DOCTYPE html>
<html>
<head>{%metas%}<title>{%title%}</title>{%favicon%}{%css%}<style>""" + CSS + """</style></head>
<body>{%app_entry%}<footer>{%config%}{%scripts%}{%renderer%}</footer></body>
</html>"""


__all__ = ["CSS", "INDEX"]
