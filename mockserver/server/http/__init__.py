"""HTTP/1.1 connections: one exchange (waitress's request parser and response tasks, the
deadlines, the refusals in the API's Error shape), served either by one event loop that
runs the app inline (the mock) or by a thread per connection (the proxy, whose app waits
on its upstream)."""
