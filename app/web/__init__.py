"""HTML pages (htmx): one blueprint module per noun."""
