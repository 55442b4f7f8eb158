"""The blueprints page: a gallery of ready flows, filtered by category and text; one becomes a flow in a click."""
