"""An event listener for the tests, loaded from settings as Kinto's are."""

RECEIVED = []


def load_from_config(config, prefix):
    def listener(event):
        RECEIVED.append(event)

    return listener
