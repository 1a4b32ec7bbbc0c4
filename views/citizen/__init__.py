"""The citizen's side: sign-in, « Mes données », the request wizard, payment and its documents."""
