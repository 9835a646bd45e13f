"""Fetching a checkpoint reference to a local file: http(s) URLs (downloaded once into torch's hub
cache), ``hf-hub:`` references (huggingface_hub's cache) and mmengine's named-model schemes
(``torchvision://``, ``open-mmlab://``, ``mmcls://``: the URL mmengine would download). Fetching
never reads a checkpoint: :mod:`pvt_mm.fileio.reading` does."""
import hashlib
import http.client
import os
import os.path as osp
import re
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request

from mmengine.logging import print_log

from .errors import CheckpointError, printable

HF_HUB_PREFIX = 'hf-hub:'
URL_PREFIXES = ('http://', 'https://')
# mmengine's schemes that name a model of a table and load its URL (mmengine/runner/checkpoint.py)
NAMED_MODEL_PREFIXES = ('torchvision://', 'modelzoo://', 'open-mmlab://', 'openmmlab://',
                        'mmcls://')
# How a config names a backbone's weights, for the hint in download errors.
LOCAL_COPY_HINT = ('--cfg-options model.backbone.init_cfg.checkpoint=/path/to/file for a '
                   "backbone's weights, or pass the local file in place of the URL")


def resolve_checkpoint(ref: str) -> str:
    """A local file for a checkpoint reference: a path as it is; an http(s) URL downloaded once
    into torch's hub cache (:func:`download_cache_path`); ``hf-hub:ORG/NAME[@REVISION][/FILE]``
    fetched through huggingface_hub into its cache (``model.safetensors``, else
    ``pytorch_model.bin``, unless FILE is given); an mmengine named model (``torchvision://
    resnet50``, ``open-mmlab://...``, ``mmcls://...``) as the URL or file mmengine's table gives.
    A failed download is a :class:`CheckpointError` naming the reference, the reason, the cache
    and how to use a local copy."""
    ref = osp.expanduser(str(ref))
    if ref.startswith(HF_HUB_PREFIX):
        return _from_hf_hub(ref)
    if ref.startswith(NAMED_MODEL_PREFIXES):
        ref = _named_model(ref)
    if ref.startswith(URL_PREFIXES):
        return _download(ref)
    return ref


def _named_model(ref: str) -> str:
    """The URL (or file under mmengine's home) an mmengine named-model reference stands for,
    looked up in mmengine's own tables as its loaders do."""
    from mmengine.runner import checkpoint as mm
    scheme, name = ref.split('://', 1)
    if scheme in ('torchvision', 'modelzoo'):
        try:
            table = mm.get_torchvision_models()
        except ImportError:
            raise CheckpointError(f'{ref}: {scheme}:// names torchvision models, and torchvision '
                                  'is not installed') from None
    elif scheme == 'mmcls':
        table = mm.get_mmcls_models()
    else:
        table = mm.get_external_models()
        name = mm.get_deprecated_model_names().get(name, name)
    if name not in table:
        raise CheckpointError(f'{ref}: mmengine knows no model {name!r} for {scheme}://')
    found = table[name]
    return found if found.startswith(URL_PREFIXES) else osp.join(mm._get_mmengine_home(), found)


def redact_url(url: str) -> str:
    """``url`` as logs and errors show it: without a query string, fragment or user info, which
    may carry credentials (signed URLs' ``?token=...``)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # malformed (an unclosed IPv6 bracket): cut by hand
        bare = re.sub(r'//[^/@]*@', '//', re.split(r'[?#]', url, 1)[0])
        return bare + ('?...' if re.search(r'[?#]', url) else '')
    host = parts.netloc.rpartition('@')[2]
    hidden = '?...' if parts.query or parts.fragment else ''
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, '', '')) + hidden


def download_cache_path(url: str) -> str:
    """Where a downloaded URL is cached: torch's hub cache (``$TORCH_HOME/hub/checkpoints``, where
    mmengine keeps downloaded weights too), under the file's name prefixed with a hash of the
    whole URL, so that two URLs never share a cached file."""
    import torch
    name = osp.basename(urllib.parse.urlsplit(url).path) or 'checkpoint'
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return osp.join(torch.hub.get_dir(), 'checkpoints', f'{digest}-{name}')


def _expected_length(response):
    """The body's length the server announced (None: not announced); two Content-Length headers
    that disagree, or one that is not a number, are an error (which of them is true?)."""
    values = {v.strip() for v in response.headers.get_all('Content-Length') or []}
    if len(values) > 1:
        raise OSError('the server sent conflicting Content-Length headers '
                      f'({", ".join(sorted(v[:20] for v in values))})')
    if not values:
        return None
    (value, ) = values
    if not value.isdigit():
        raise OSError(f'the server sent an invalid Content-Length {value[:40]!r}')
    return int(value)


def _download(url: str) -> str:
    public = redact_url(url)
    try:
        target = download_cache_path(url)
    except ValueError as err:  # urllib's parse of a malformed URL
        raise CheckpointError(f'{public}: not a valid URL ({err})') from None
    if osp.isfile(target):
        return target
    tmp = None
    try:
        os.makedirs(osp.dirname(target), exist_ok=True)
        print_log(f'Downloading {public} to {target}', logger='current')
        with tempfile.NamedTemporaryFile(dir=osp.dirname(target), prefix='.download-',
                                         delete=False) as tmp, \
                urllib.request.urlopen(url, timeout=60) as response:
            expected = _expected_length(response)
            shutil.copyfileobj(response, tmp, 1 << 20)
            got = tmp.tell()
        if expected is not None and got != expected:
            raise OSError(f'the download was cut short ({got} of {expected} bytes)')
        os.replace(tmp.name, target)
    except (OSError, http.client.HTTPException, ValueError) as err:
        reason = printable(getattr(err, 'reason', None) or err)
        if isinstance(err, urllib.error.HTTPError):
            reason = f'HTTP {err.code} {printable(err.reason, 80)}'
        elif isinstance(err, http.client.HTTPException):
            reason = f'the connection broke off ({type(err).__name__})'
        raise CheckpointError(
            f'{public}: could not be downloaded ({reason}). Once downloaded it is cached as '
            f'{target}; to use a copy made elsewhere, put it there or use the local file '
            f'({LOCAL_COPY_HINT})') from None
    finally:
        if tmp is not None and osp.exists(tmp.name):
            os.remove(tmp.name)
    return target


def _from_hf_hub(ref: str) -> str:
    spec = ref[len(HF_HUB_PREFIX):]
    parts = spec.split('/')
    if len(parts) < 2 or not all(parts[:2]):
        raise CheckpointError(f'{ref}: not a Hub reference; write hf-hub:ORG/NAME[@REVISION]'
                              '[/FILE], e.g. hf-hub:timm/pvt_v2_b2.in1k')
    repo, filename = '/'.join(parts[:2]), '/'.join(parts[2:]) or None
    repo, _, revision = repo.partition('@')
    try:
        import huggingface_hub
        from huggingface_hub.errors import (EntryNotFoundError, LocalEntryNotFoundError,
                                            RepositoryNotFoundError, RevisionNotFoundError)
    except ImportError:
        raise CheckpointError(f'{ref}: Hub references need the huggingface_hub package (pip '
                              'install huggingface_hub, or pip install pvt_mm[all])') from None
    cache = huggingface_hub.constants.HF_HUB_CACHE
    problems = []
    for name in ([filename] if filename else ['model.safetensors', 'pytorch_model.bin']):
        try:
            return huggingface_hub.hf_hub_download(repo, name, revision=revision or None)
        except (EntryNotFoundError, LocalEntryNotFoundError) as err:
            offline = isinstance(err, LocalEntryNotFoundError)
            problems.append(f'{name}: ' + ('not in the local cache and the Hub cannot be '
                                           'reached' if offline else 'not in the repository'))
        except (RepositoryNotFoundError, RevisionNotFoundError) as err:
            problems.append(type(err).__name__.replace('NotFoundError', ' not found'))
            break
        except OSError as err:  # a network failure huggingface_hub does not classify
            problems.append(f'{name}: {err}')
        except ValueError as err:  # huggingface_hub's validation of names ('..', '--')
            first = str(err).strip().splitlines()[0]
            raise CheckpointError(f'{ref}: not a valid Hub reference ({first})') from None
    offline = ' (HF_HUB_OFFLINE is set)' if huggingface_hub.constants.HF_HUB_OFFLINE else ''
    raise CheckpointError(
        f'{ref}: could not be fetched{offline}: {"; ".join(problems)}. Files fetched from the '
        f'Hub are cached in {cache}; to use a copy made elsewhere, download the repository '
        f'there with huggingface_hub, or use the local file ({LOCAL_COPY_HINT})')
