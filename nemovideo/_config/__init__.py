"""Client configuration: ``ClientConfig`` (attrs, frozen, grouped), where each value comes from
(argument > environment > config dir > default) and what each accepts."""
