import logging

log = logging.getLogger(__name__)


def clean(values):
    log.info("cleaning %d values", len(values))
    kept = []
    for value in values:
        if value < 0:
            log.warning("dropping %s", value)
        else:
            kept.append(value)
    return kept
