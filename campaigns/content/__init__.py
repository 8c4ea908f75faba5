"""Message content: rendering copy for recipients and the copy lint a template must pass before approval."""
