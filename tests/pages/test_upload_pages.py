"""Your own data through the pages' real uploader (AppTest drives st.file_uploader).

The article's data uploaded as CSV draws exactly the built-in data's charts; every malformed file
of the parser's corpus gets one error in the sidebar, no exception, and the built-in data's charts
(finite) stay; the file stays in the session, never in the URL, and the link panel says so.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import upload
from dashboard.registry import VIEWS
from tests.core.test_tabular import BAD, grid
from tests.pages.test_pages_apptest import (
    assert_chart_data_ok,
    assert_clean,
    chart_frames,
    charts_of,
    open_view,
)

VIEW = {v.url_path: v for v in VIEWS}


def put(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader[0].set_value((name, data, "text/csv"))  # the one uploader of the page
    return at.run()


def frames(at: AppTest) -> list:
    """Every chart's data, as frames (what the charts show, titles aside)."""
    return [[f.to_dict("list") for f in chart_frames(el)] for el in charts_of(at)]


def sidebar_errors(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.sidebar.error]


@pytest.mark.parametrize("view", ["standardization", "landscape"])
def test_the_articles_data_uploaded_as_csv_draws_exactly_the_built_in_charts(view):
    at = open_view(VIEW[view])
    built_in = frames(at)
    put(at, "seed.csv", upload.sample_csv())
    assert_clean(at, view)
    assert not sidebar_errors(at), sidebar_errors(at)
    assert any("Your file" in str(e.value) for e in at.main.info)
    assert frames(at) == built_in


@pytest.mark.parametrize("view", ["standardization", "landscape"])
def test_every_malformed_file_gets_one_sidebar_error_and_the_built_in_charts_stay(view):
    at = open_view(VIEW[view])
    built_in = frames(at)
    for name, (data, _) in BAD.items():
        put(at, "bad.csv", data)
        assert_clean(at, f"{view}, {name}")
        errors = sidebar_errors(at)
        assert len(errors) == 1 and "cannot be used" in errors[0], f"{name}: {errors}"
        assert frames(at) == built_in, f"{name}: the charts changed"
        assert_chart_data_ok(at, f"{view}, {name}")


def test_a_file_of_my_own_draws_its_columns_and_its_names_stay_text():
    at = open_view(VIEW["landscape"])
    data = grid("<b>size</b>,price [$](http://x.y),label",
                "{j}00,{i}.5,{k}") + grid("", "3100,7.25,1")[1:]
    put(at, "<img src=x onerror=alert(1)>.csv", data)
    assert_clean(at, "own file")
    assert not sidebar_errors(at), sidebar_errors(at)
    assert_chart_data_ok(at, "own file")
    markdown = " ".join(str(e.value) for e in [*at.main.markdown, *at.main.info, *at.sidebar.caption])
    assert "`<b>size</b>`" in markdown and "`<img src=x onerror=alert(1)>.csv`" in markdown
    assert "condition number" in markdown


def test_an_uploaded_file_stays_out_of_the_url_and_the_link_panel_offers_its_data():
    at = open_view(VIEW["standardization"])
    before = dict(at.query_params.items())
    put(at, "seed.csv", upload.sample_csv())
    assert dict(at.query_params.items()) == before  # the view's settings only: nothing of the file
    captions = " ".join(str(c.value) for c in at.sidebar.caption)
    assert "A link cannot carry a file" in captions
    assert any(b.label == "The data shown (CSV)" for b in at.get("download_button"))


def test_the_file_follows_the_session_to_the_other_view_and_back_to_built_in_on_request():
    at = open_view(VIEW["standardization"])
    put(at, "seed.csv", upload.sample_csv())
    at.switch_page("../pages/landscape.py").run()
    assert_clean(at, "landscape after an upload")
    assert any("Your file" in str(e.value) for e in at.main.info)
    at.button(key="upload_forget").click().run()
    assert_clean(at, "back to built-in")
    assert not at.main.info and upload.TABLE not in at.session_state
    assert at.file_uploader[0].value is None  # the uploader is emptied too
    put(at, "seed.csv", upload.sample_csv())  # and takes a file again
    assert any("Your file" in str(e.value) for e in at.main.info)


def test_a_column_choice_moved_by_the_user_is_kept_on_the_rerun_and_on_coming_back():
    at = open_view(VIEW["standardization"])
    put(at, "seed.csv", upload.sample_csv())
    assert at.multiselect(key="upload_features").value == ["A", "B"]
    at.multiselect(key="upload_features").set_value(["B"]).run()
    assert at.multiselect(key="upload_features").value == ["B"]
    assert r"1 feature\(s\) used" in " ".join(str(e.value) for e in at.main.info)
    at.switch_page("../pages/landscape.py").run()
    at.switch_page("../pages/standardization.py").run()
    assert_clean(at, "back to standardization")
    assert at.multiselect(key="upload_features").value == ["B"]
