"""Call-centre KPIs: formulas, live figures."""
