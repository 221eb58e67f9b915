"""Home: batch normalization in the article's three steps, and a map of the views."""

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from dashboard import cached
from dashboard.lessons import LESSONS
from dashboard.registry import VIEWS
from dashboard.state import is_hidden
from dashboard.teach import apply


def first_sentence(text: str) -> str:
    """The text's first sentence, ending in one full stop."""
    return text.split(". ")[0].rstrip(".") + "."


article = cached.dataset("seed", n_samples=100, noise=0.1, seed=42)  # the article's A, B data
spread = article.X.std(axis=0)
st.title("Normalization, seen")
st.markdown(
    "**Why does normalizing the data — and every layer's inputs — make neural networks train faster?** "
    "This dashboard lets you *see* it: first on a two-feature regression where one feature's spread is "
    f"{spread.max() / spread.min():.0f} times the other's, then on deep networks with and without "
    "normalization."
)

st.subheader("Batch normalization in three steps")
c1, c2, c3 = st.columns(3)
with c1.container(border=True):
    st.markdown("**1 · Split into mini-batches**")
    st.markdown("The training data is shuffled and divided into batches of a fixed size, "
                "drawn at random *without replacement*: every sample once per epoch.")
with c2.container(border=True):
    st.markdown("**2 · Standardize each batch**")
    st.markdown("Each feature of the batch is standardized with the batch's *own* statistics: "
                "x̂ = (x − mean) / std. Every layer then sees inputs of the same scale.")
with c3.container(border=True):
    st.markdown("**3 · Scale and shift**")
    st.markdown("The network learns a scale γ and a shift β per feature and outputs γ·x̂ + β, "
                "so it can undo the standardization wherever that helps.")

if not is_hidden("lessons"):
    st.subheader("Lessons")
    st.caption("Each sets up a view in one click and says what to look for. A link with ?lesson=<name> opens one.")
    cols = st.columns(3)
    for i, item in enumerate(LESSONS):
        with cols[i % 3].container(border=True):
            st.markdown(f"**{item.title}**  \n{first_sentence(item.look_for)}")
            st.button("Open this lesson", key=f"home-lesson-{item.key}", on_click=apply, args=(item,),
                      icon=":material/school:")

st.subheader("The views")
st.caption("Pick a view in the sidebar. Each one starts with a sentence on what to look at.")
for view in VIEWS:
    with st.container(border=True):
        try:
            st.page_link(str(view.path), label=f"**{view.title}**", icon=view.icon)
        except StreamlitPageNotFoundError:  # this page run on its own, outside the app's navigation
            st.markdown(f"[**{view.title}**](/{view.url_path})")
        st.markdown(view.lesson)

st.markdown(
    "The data of the first views is the experiment from Peng Qian's article *Visualizing What Batch "
    "Normalization Is and Its Advantages* (2024): A ~ U(1, 10), B ~ U(1, 200), y = 2A + 3B + noise."
)
