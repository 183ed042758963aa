# Poolscope as a container: `streamlit run app.py` on port 8501 (see docs/deployment.md).
#   docker build -t poolscope .
#   docker run -d -p 8501:8501 --name poolscope poolscope
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none

WORKDIR /app

# Runtime dependencies only (the tests' torch, Playwright etc. stay out of the image).
COPY requirements.txt .
RUN pip install -r requirements.txt

# The app itself, owned by root and read-only for the user that runs it.
COPY .streamlit/ .streamlit/
COPY app.py ./
COPY pages/ pages/
COPY ui/ ui/
COPY pooling_core/ pooling_core/
COPY assets/ assets/

RUN useradd --create-home --uid 10001 poolscope
USER poolscope

EXPOSE 8501

# The slim image has no curl: ask Streamlit's health endpoint with Python's urllib
# (an HTTP error or no answer raises, so the check exits non-zero).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]

CMD ["streamlit", "run", "app.py", "--server.address", "0.0.0.0", "--server.port", "8501", "--server.headless", "true"]
