"""Price: average ticket, revenue per customer, discounts and the cost of compensation."""

from dashboard import family

family.render(
    "price",
    intro="Competing on price alone is a trap: a rising average ticket with falling discounts "
    "and compensation means value, not rebates, carries the revenue.",
)
