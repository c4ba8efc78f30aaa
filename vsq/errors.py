"""The errors vsq reports to users: one line naming the file, the key, the value and the fix."""


class VsqError(Exception):
    """An error the user can fix; its message is shown as is, without a traceback."""


class ConfigError(VsqError):
    """A configuration (or the data/model it points at) is unusable.

    ``file`` is the configuration file, ``key`` the offending key (or None for the whole file).
    """

    def __init__(self, file, key, message):
        self.file = str(file)
        self.key = key
        self.message = message
        where = f"{self.file}: {key}: " if key else f"{self.file}: "
        super().__init__(where + message)


class ExternalToolError(VsqError):
    """TensorFlow, the TFLite runtime or MCT failed; the message keeps their own words (spec)."""

    def __init__(self, tool, action, error):
        self.tool = tool
        super().__init__(f"{tool} failed while {action}: {type(error).__name__}: {error}")


def one_line(error: BaseException) -> str:
    """An error's message on one line: ours as written, anyone else's with its type (a tool's own words)."""
    text = str(error) if isinstance(error, VsqError) else f"{type(error).__name__}: {error}"
    return " ".join(text.split()) or type(error).__name__
