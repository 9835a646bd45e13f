"""Run under torchrun (2 CPU processes): DDP's gradients of a PVTv2 backbone (depth-wise conv
FFN and linear SRA: the layers whose gradients came back channels-last) equal the gradients of
the same model on the whole batch in one process. Prints CHECKED when they do."""
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

import pvt_mm  # noqa: F401
from pvt_mm import PVTv2


def loss_of(model, images, projections):
    return sum((o * p).sum() for o, p in zip(model(images), projections))


def main():
    dist.init_process_group('gloo')
    rank = dist.get_rank()
    torch.manual_seed(0)
    model = PVTv2(arch='b0', linear_sra=True, drop_path_rate=0.)
    model.init_weights()
    reference = PVTv2(arch='b0', linear_sra=True, drop_path_rate=0.)
    reference.load_state_dict(model.state_dict())
    images = torch.randn(4, 3, 96, 128)
    projections = [torch.randn(4, *o.shape[1:]) for o in reference(images)]
    ddp = DistributedDataParallel(model)
    half = slice(2 * rank, 2 * rank + 2)
    loss_of(ddp, images[half], [p[half] for p in projections]).backward()
    # DDP averages the two ranks' gradients: the reference's loss is half the whole batch's.
    (loss_of(reference, images, projections) / 2).backward()
    ref = dict(reference.named_parameters())
    for name, p in model.named_parameters():
        assert p.grad.stride() == p.stride(), name
        error = (p.grad - ref[name].grad).norm() / ref[name].grad.norm()
        assert error < 1e-5, (name, float(error))  # float32 sums in another order: ~1e-6
    print(f'rank {rank}: CHECKED {sum(1 for _ in model.parameters())} gradients', flush=True)
    dist.destroy_process_group()


if __name__ == '__main__':
    main()
