"""Errors the command line prints as one message, without a traceback."""


class UserError(Exception):
    """A problem the user can fix (bad input file, port taken, service down): says what and how."""
