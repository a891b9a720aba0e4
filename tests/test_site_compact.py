"""Generated pages are published without the theme's indentation, and keep everything whose white space counts."""

from modelcards.site.compact import compact_html


def test_indentation_and_blank_lines_are_cut_between_tags_and_in_text():
    page = "<nav>\n    <ul>\n\n      <li>\n        <a href=\"x/\">\n          Runs\n        </a>\n      </li>\n    </ul>\n</nav>\n"
    assert compact_html(page) == "<nav>\n<ul>\n<li>\n<a href=\"x/\">\nRuns\n</a>\n</li>\n</ul>\n</nav>\n"


def test_preformatted_text_scripts_and_styles_keep_their_white_space():
    kept = ["<pre><code>def f():\n    return 1\n\n    # indented\n</code></pre>",
            "<PRE class=\"x\">\n  a\n</PRE>",
            "<textarea>\n  typed\n</textarea>",
            "<script>var s = `\n    two lines`;</script>",
            "<style>\n  .a { color: red; }\n</style>"]
    for element in kept:
        assert compact_html(f"<div>\n    {element}\n    </div>") == f"<div>\n{element}\n</div>"


def test_a_page_without_indentation_is_unchanged():
    page = "<p>one two</p>\n<p>three</p>\n"
    assert compact_html(page) == page
