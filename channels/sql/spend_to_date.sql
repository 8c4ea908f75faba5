-- Marketing spend up to the as-of date, exact to the cent.
SELECT date, channel, spend FROM staged.marketing_spend WHERE date <= (SELECT as_of FROM core.analysis_window)
