"""The API's JSON parser: DRF's, refusing JSON nested too deeply to read.

Python's JSON reader recurses once per level of nesting; a body nested about a thousand levels deep
exhausts the interpreter's recursion limit, which DRF's parser does not catch (a 500). Here it is
DRF's 400 `parse_error`, like any other body that cannot be read.
"""

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError() from None
