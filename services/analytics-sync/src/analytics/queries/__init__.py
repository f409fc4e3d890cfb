"""The analytics read API: metrics, timeseries, posts, best times, dashboard, compare, export."""
