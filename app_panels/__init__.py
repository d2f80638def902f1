"""Streamlit panels of ``app.py``: each module draws one part of the page.

They only call :mod:`tdi_geo` functions and Streamlit; no data logic here.
"""
