"""The read-only live view: a static page (here) fed by server-sent events (:mod:`orchgpt.live`)."""
