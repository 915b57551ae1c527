"""Quantity: purchases, revenue, customers, growth, retention, complaints."""

from dashboard import family

family.render(
    "quantity",
    intro="The classic service indicators: purchase volume, revenue and its growth, customers "
    "won and kept, and the number of complaints.",
)
